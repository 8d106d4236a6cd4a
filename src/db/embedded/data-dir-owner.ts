import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";

/** Who has the embedded database open, and where it answers. PGlite must be opened by one process only. */
export interface DataDirOwner {
  readonly pid: number;
  readonly host: string;
  /** 0 while the owner is still starting its wire server. */
  readonly port: number;
}

export function ownerFile(dataDir: string): string {
  return `${dataDir}.owner.json`;
}

/** The live owner, or null (a file left by a dead process is removed). */
export function readOwner(dataDir: string): DataDirOwner | null {
  let owner: DataDirOwner;
  try {
    owner = JSON.parse(readFileSync(ownerFile(dataDir), "utf8")) as DataDirOwner;
  } catch {
    return null;
  }
  if (typeof owner.pid === "number" && isAlive(owner.pid)) return owner;
  rmSync(ownerFile(dataDir), { force: true });
  return null;
}

/** Claims the data folder for this process; false when another live process has it. */
export function claimOwner(dataDir: string, owner: DataDirOwner): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(ownerFile(dataDir), "wx");
      writeSync(fd, JSON.stringify(owner));
      fsyncSync(fd);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (readOwner(dataDir) !== null) return false;
    }
  }
  return false;
}

/** Tells others where this owner answers (write, fsync, rename). */
export function announceOwner(dataDir: string, owner: DataDirOwner): void {
  const temporary = `${ownerFile(dataDir)}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w");
  writeSync(fd, JSON.stringify(owner));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temporary, ownerFile(dataDir));
}

export function releaseOwner(dataDir: string, pid: number): void {
  let owner: DataDirOwner | null = null;
  try {
    owner = JSON.parse(readFileSync(ownerFile(dataDir), "utf8")) as DataDirOwner;
  } catch {
    return;
  }
  if (owner?.pid === pid) rmSync(ownerFile(dataDir), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
