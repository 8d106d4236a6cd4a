import { describe, expect, it } from "vitest";
import { colourDatabaseUrl } from "../../src/db/colour-connection.js";

describe("a colour's database URL", () => {
  it("adds the search_path to the options and keeps the other parameters' percent escapes", () => {
    const url = colourDatabaseUrl(
      "postgres://app:pw@db:5432/shop?application_name=my%20app&options=-c%20statement_timeout%3D5s",
      "shop_v2",
    );
    expect(url).toBe(
      "postgres://app:pw@db:5432/shop?application_name=my%20app&options=-c%20statement_timeout%3D5s%20-c%20search_path%3Dshop_v2",
    );
    expect(url).not.toContain("+");
  });

  it("starts the options when the URL has none", () => {
    expect(colourDatabaseUrl("postgres://app@db/shop", "shop_v1")).toBe(
      "postgres://app@db/shop?options=-c%20search_path%3Dshop_v1",
    );
  });
});
