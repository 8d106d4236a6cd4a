/** `cutover render systemd`: a unit systemd itself accepts, which restarts the daemon and never kills the data plane. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, makeProject, runCli } from "../helpers/project.js";

describe("cutover render systemd", () => {
  it("writes a unit that runs the daemon with Restart=always and KillMode=process, which systemd-analyze accepts", async () => {
    const project = await makeProject();
    const out = join(project.dir, "cutover-testsvc.service");
    const result = await runCli(project, "render", "systemd", "--user", "www-data", "-o", out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/systemctl enable --now cutover-testsvc\.service/);
    const unit = readFileSync(out, "utf8");
    const lines = unit.split("\n");
    expect(lines).toContain(`ExecStart=${process.execPath} ${CLI} daemon --config ${project.config}`);
    expect(lines).toContain(`WorkingDirectory=${project.dir}`);
    expect(lines).toContain("User=www-data");
    // systemd signals the daemon alone: the data plane and the replicas are never killed with it.
    expect(lines).toContain("KillMode=process");
    expect(lines).toContain("Restart=always");
    // systemd's own parser: a unit it would refuse, or an ExecStart it cannot run, fails here.
    execFileSync("systemd-analyze", ["verify", out], { stdio: "pipe" });
  });
});
