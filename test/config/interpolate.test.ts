// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is what these tests are about.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  forgetSecrets,
  interpolateEnv,
  redactSecrets,
  rememberSecrets,
} from "../../src/config/interpolate.js";
import { CONFIG_ENV, findConfigFile, parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { ROOT } from "../helpers/project.js";

afterEach(() => forgetSecrets());

const base = 'service: shop\nversion: 1.0.0\nstart:\n  command: "node server.js"\n';
const webhook = (url: string) => `${base}analysis:\n  webhooks:\n    - url: "${url}"\n`;

function problems(text: string, env: Record<string, string>): readonly string[] {
  try {
    parseConfig(text, "/srv/shop/cutover.yaml", env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("${VAR} in cutover.yaml", () => {
  it("reads values from the environment, with defaults, leaving keys and other types alone", () => {
    const { value, secrets, problems } = interpolateEnv(
      {
        a: "x-${A}-y",
        b: "${B:-fallback}",
        c: "${C:-}",
        "${KEY}": "literal key",
        n: 3,
        t: true,
        z: null,
        list: ["${A}", 4, { deep: "${A:-no}" }],
      },
      { A: "alpha-value", C: "", KEY: "k" },
    );
    expect(problems).toEqual([]);
    expect(value).toEqual({
      a: "x-alpha-value-y",
      b: "fallback",
      c: "",
      "${KEY}": "literal key",
      n: 3,
      t: true,
      z: null,
      list: ["alpha-value", 4, { deep: "alpha-value" }],
    });
    // Only what came from the environment is a secret; defaults are written in the file anyway.
    expect(new Set(secrets.map((s) => s.name))).toEqual(new Set(["A"]));
  });

  it("keeps $${ as a literal ${ and leaves $VAR without braces alone", () => {
    const { value, problems } = interpolateEnv(
      { cmd: "curl $${PREVIEW_URL}/ping && echo $HOME $$", price: "$5" },
      {},
    );
    expect(problems).toEqual([]);
    expect(value).toEqual({ cmd: "curl ${PREVIEW_URL}/ping && echo $HOME $$", price: "$5" });
  });

  it("refuses a variable that is not set, naming the field and the variable", () => {
    const found = problems(webhook("${SLACK_URL}"), {});
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^analysis\.webhooks\[0\]\.url: \$\{SLACK_URL\} is not set in the environment/);
    expect(problems(`${base}router:\n  preview: "\${bad name}"\n`, {})[0]).toMatch(
      /^router\.preview: \$\{bad name\} is not a variable reference/,
    );
  });

  it("validates the resolved value, and shows a refused one as its ${VAR}", () => {
    const { config } = parseConfig(webhook("${SLACK_URL}"), "/x/cutover.yaml", {
      SLACK_URL: "http://127.0.0.1:9/hooks/T0SECRET-abc123",
    });
    expect(config.analysis?.webhooks[0]?.url).toBe("http://127.0.0.1:9/hooks/T0SECRET-abc123");
    const refused = problems(`${base}replicas: "\${REPLICAS}"\n`, { REPLICAS: "not-a-number-SECRET" });
    expect(refused.join("\n")).toMatch(/replicas: .*\$\{REPLICAS\}/);
    expect(refused.join("\n")).not.toContain("not-a-number-SECRET");
    const badUrl = problems(webhook("${SLACK_URL}"), { SLACK_URL: "not a url T0SECRET" });
    expect(badUrl.join("\n")).not.toContain("T0SECRET");
  });

  it("redacts every value read from the environment, also JSON- and URL-encoded, longest first", () => {
    rememberSecrets([
      { name: "TOKEN", value: 'se"cret/abc' },
      { name: "URL", value: 'https://x.test/hooks/se"cret/abc' },
    ]);
    expect(redactSecrets('posting to https://x.test/hooks/se"cret/abc now')).toBe("posting to ${URL} now");
    expect(redactSecrets(JSON.stringify({ token: 'se"cret/abc' }))).toBe('{"token":"${TOKEN}"}');
    expect(redactSecrets(`q=${encodeURIComponent('se"cret/abc')}`)).toBe("q=${TOKEN}");
    expect(redactSecrets("nothing here")).toBe("nothing here");
  });

  it("does not treat service, version or very short values as secrets", () => {
    const { secrets } = interpolateEnv(
      { service: "${SVC}", version: "${VER}", replicas: "${N}", start: { env: { K: "${LONG}" } } },
      { SVC: "shop-service", VER: "2.0.0-rc1", N: "2", LONG: "long-secret" },
    );
    expect(secrets).toEqual([{ name: "LONG", value: "long-secret" }]);
  });
});

describe("the daemon's logger", () => {
  it("writes every value read from the environment as its ${VAR}, in any field, pretty or not", () => {
    const script = `
      const { rememberSecrets } = await import(${JSON.stringify(join(ROOT, "dist/src/config/interpolate.js"))});
      const { createLogger } = await import(${JSON.stringify(join(ROOT, "dist/src/log.js"))});
      rememberSecrets([{ name: "SLACK_URL", value: "https://hooks.test/T0SECRET-abc123" }]);
      const log = createLogger({ pretty: process.argv[1] === "pretty" });
      log.warn({ url: "https://hooks.test/T0SECRET-abc123", nested: { err: "at https://hooks.test/T0SECRET-abc123?x" } }, "calling https://hooks.test/T0SECRET-abc123");
    `;
    for (const mode of ["json", "pretty"]) {
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script, mode], {
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
      });
      expect(out).toContain("${SLACK_URL}");
      expect(out).not.toContain("T0SECRET");
    }
  });
});

describe("which cutover.yaml", () => {
  const tree = () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "cutover-find-")));
    mkdirSync(join(root, "svc", "src", "deep"), { recursive: true });
    writeFileSync(join(root, "svc", "cutover.yaml"), base);
    return root;
  };

  it("takes --config, then CUTOVER_CONFIG, then the nearest cutover.yaml upward", () => {
    const root = tree();
    const deep = join(root, "svc", "src", "deep");
    expect(findConfigFile("other.yaml", { cwd: deep, env: { [CONFIG_ENV]: "/etc/x.yaml" } })).toBe(
      join(deep, "other.yaml"),
    );
    expect(findConfigFile(undefined, { cwd: deep, env: { [CONFIG_ENV]: "../named.yaml" } })).toBe(
      join(root, "svc", "src", "named.yaml"),
    );
    expect(findConfigFile(undefined, { cwd: deep, env: {} })).toBe(join(root, "svc", "cutover.yaml"));
  });

  it("says where it looked and how to make one when there is none", () => {
    const root = tree();
    let error: unknown;
    try {
      findConfigFile(undefined, { cwd: root, env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(root);
    expect(message).toMatch(/up to the root/);
    expect(message).toMatch(/cutover init/);
    expect(message).toMatch(/CUTOVER_CONFIG/);
  });
});
