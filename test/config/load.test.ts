import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { configJsonSchema } from "../../src/config/schema.js";
import { configTemplate } from "../../src/config/template.js";
import { ConfigError } from "../../src/errors.js";

const minimal = "service: shop\nversion: 1.0.0\nstart:\n  command: node server.js\n";

function problems(text: string): readonly string[] {
  try {
    parseConfig(text, "/tmp/cutover.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("config", () => {
  it("fills every default and parses durations and addresses", () => {
    const { config, stateDir } = parseConfig(minimal, "/srv/shop/cutover.yaml");
    expect(config.replicas).toBe(2);
    expect(config.health).toMatchObject({
      path: "/health",
      interval: 1000,
      failureThreshold: 3,
      startupGrace: 30_000,
    });
    expect(config.router.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.deploy.autoPromote).toEqual({ mode: "on" });
    expect(stateDir).toBe("/srv/shop/.cutover");
  });

  it("reads autoPromote as on, off or a delay", () => {
    const parse = (v: string) =>
      parseConfig(`${minimal}deploy:\n  autoPromote: ${v}\n`, "/x/c.yaml").config.deploy.autoPromote;
    expect(parse("false")).toEqual({ mode: "off" });
    expect(parse('"90s"')).toEqual({ mode: "after", delayMs: 90_000 });
  });

  it("names each bad field with its value and what was expected", () => {
    const found = problems(
      "service: Bad_Name\nreplicas: 0\nstart:\n  commnd: x\nrouter:\n  listen: nowhere\nhealth:\n  interval: fast\n",
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^service: .*DNS label.*got "Bad_Name"/),
        expect.stringMatching(/^version: is required/),
        expect.stringMatching(/^replicas: .*>=1.*got 0/),
        expect.stringMatching(/^start.command: is required/),
        expect.stringMatching(/^start: unknown field "commnd"/),
        expect.stringMatching(/^router.listen: expected host:port.*got "nowhere"/),
        expect.stringMatching(/^health.interval: expected a duration.*got "fast"/),
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it("needs start.command on this machine, not on Kubernetes (the image's command runs there)", () => {
    const local = problems("service: shop\nversion: 1.0.0\n");
    expect(local).toEqual([
      expect.stringMatching(/^start\.command: is required: the shell command that starts/),
    ]);
    const kube =
      "service: shop\nversion: 1.0.0\nplatform: kubernetes\nkubernetes:\n  image: r.example.com/shop:{version}\n";
    const { config } = parseConfig(kube, "/x/cutover.yaml");
    expect(config.start).toMatchObject({ env: {}, stopGrace: 10_000 });
    expect(config.start.command).toBeUndefined();
    // start.env still reaches the containers there
    const withEnv = parseConfig(`${kube}start:\n  env: { LOG_LEVEL: debug }\n`, "/x/cutover.yaml");
    expect(withEnv.config.start.env).toEqual({ LOG_LEVEL: "debug" });
  });

  it("reports YAML syntax errors instead of crashing", () => {
    expect(problems("service: [unclosed\n")[0]).toMatch(/YAML syntax/);
  });

  it("the template written by init is itself a valid config", () => {
    const { config } = parseConfig(configTemplate("shop"), "/x/cutover.yaml");
    expect(config.service).toBe("shop");
    expect(config.start.command).toContain("{version}");
  });

  it("publishes a JSON Schema that describes the fields", () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { description?: string }>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["service", "version", "replicas", "start", "health", "router", "deploy"]),
    );
    expect(schema.required).toEqual(expect.arrayContaining(["service", "version"]));
    // start.command, except on Kubernetes
    expect(schema).toMatchObject({
      if: { properties: { platform: { const: "kubernetes" } }, required: ["platform"] },
      else: { required: ["start"], properties: { start: { required: ["command"] } } },
    });
    expect(schema.properties.replicas?.description).toBe("Replicas per colour.");
  });
});
