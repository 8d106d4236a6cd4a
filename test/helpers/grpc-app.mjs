// A small gRPC service for the h2c tests (@grpc/grpc-js, health from grpc-health-check), over h2c on
// 127.0.0.1:$PORT (0: any free port). It prints "grpc-app listening on <port>" once it serves.
//   Colours/Who    its REPLICA name (default APP_VERSION) and APP_VERSION; trailer x-answered-by: REPLICA;
//                  name "fail" is answered NOT_FOUND; name "sleep:<ms>" is answered after <ms>
//   Colours/Count  `count` answers `interval_ms` apart, then trailer x-answered-by; prints a line when cancelled
//   grpc.health.v1.Health  SERVING, or HEALTH_STATUS (e.g. NOT_SERVING), for "" and "cutover.test.Colours"
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { HealthImplementation } from "grpc-health-check";

const here = dirname(fileURLToPath(import.meta.url));
const definition = loadSync(join(here, "grpc-app.proto"), { keepCase: false, defaults: true });
const { Colours } = grpc.loadPackageDefinition(definition).cutover.test;
const version = process.env.APP_VERSION ?? "0.0.0";
const replica = process.env.REPLICA ?? version;
const status = process.env.HEALTH_STATUS ?? "SERVING";

const trailer = () => {
  const metadata = new grpc.Metadata();
  metadata.set("x-answered-by", replica);
  return metadata;
};

const server = new grpc.Server();
server.addService(Colours.service, {
  Who(call, callback) {
    const { name } = call.request;
    if (name === "fail")
      return callback({ code: grpc.status.NOT_FOUND, details: "no such name: fail", metadata: trailer() });
    const answer = () => callback(null, { replica, version, echo: name, n: 0 }, trailer());
    if (name.startsWith("sleep:")) setTimeout(answer, Number(name.slice(6)));
    else answer();
  },
  Count(call) {
    const { count, intervalMs } = call.request;
    let n = 0;
    call.on("cancelled", () => console.log(`grpc-app: Count cancelled after ${n} answers`));
    const next = () => {
      if (call.cancelled) return;
      if (n === count) return call.end(trailer());
      call.write({ replica, version, echo: "", n: n++ });
      setTimeout(next, intervalMs);
    };
    next();
  },
});
new HealthImplementation({ "": status, "cutover.test.Colours": status }).addToServer(server);

server.bindAsync(
  `127.0.0.1:${process.env.PORT ?? 0}`,
  grpc.ServerCredentials.createInsecure(),
  (error, port) => {
    if (error) {
      console.error(`grpc-app: ${error.message}`);
      process.exit(1);
    }
    console.log(`grpc-app listening on ${port}`);
  },
);

process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
