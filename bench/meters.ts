/**
 * What a run cost besides wall time, so that figures taken on a busy or small
 * machine can still be read: CPU of this process, of the PostgreSQL backends
 * serving it, of the whole machine, and how long the event loop was blocked.
 */
import { readdir, readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";

export interface Meters {
  /** This process (Node, and PGlite inside it): CPU ms. */
  nodeCpuMs: number;
  /** PostgreSQL backends connected to the run's database: CPU ms; null where /proc cannot see them. */
  serverCpuMs: number | null;
  /** All cores of the machine, busy over the run (PostgreSQL, this process, anything else). */
  machineCpuPercent: number;
  /** The longest stretch in which no timer ran: lease renewals and requests wait that long. */
  loopBlockedMaxMs: number;
}

/**
 * Starts measuring. `database` names the PostgreSQL database whose backends count
 * (their process titles contain it); only a server on this machine is visible.
 */
export async function startMeters(database: string | null): Promise<{ stop(): Promise<Meters> }> {
  const backends = new Map<number, number>();
  const titles = new Map<number, boolean>();
  const sample = () => (database ? sampleBackends(database, backends, titles) : Promise.resolve());
  await sample();
  const before = new Map(backends);
  const cpuBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  // A timer's lateness shows a blocked loop; the gap to the end counts too, in case it never ran again.
  let lastTick = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - lastTick);
    lastTick = now;
    // Backends may close while the run goes on (pool idle timeout): sample them now and then.
    if (++ticks % 25 === 0) void sample();
  }, 10);
  timer.unref(); // a failed run must not keep the process alive
  return {
    async stop() {
      const now = performance.now();
      clearInterval(timer);
      maxGap = Math.max(maxGap, now - lastTick);
      const cpu = process.cpuUsage(cpuBefore);
      const machine = machineCpu();
      await sample();
      let serverCpuMs: number | null = null;
      if (database && backends.size > 0) {
        serverCpuMs = 0;
        for (const [pid, ms] of backends) serverCpuMs += ms - (before.get(pid) ?? 0);
      }
      return {
        nodeCpuMs: (cpu.user + cpu.system) / 1000,
        serverCpuMs,
        machineCpuPercent: (1 - (machine.idle - machineBefore.idle) / (machine.total - machineBefore.total)) * 100,
        loopBlockedMaxMs: maxGap,
      };
    },
  };
}

function machineCpu(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Linux clock ticks per second (USER_HZ), the unit of utime and stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;

/**
 * Records the CPU ms of every process whose title names `database` (PostgreSQL backends).
 * `titles` remembers which pids were looked at, so each title is read once.
 */
async function sampleBackends(
  database: string,
  seen: Map<number, number>,
  titles: Map<number, boolean>,
): Promise<void> {
  let pids: number[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return; // not Linux
  }
  await Promise.all(
    pids.map(async (pid) => {
      try {
        if (!titles.has(pid)) {
          const title = await readFile(`/proc/${pid}/cmdline`, "utf8");
          titles.set(pid, title.startsWith("postgres:") && title.includes(` ${database} `));
        }
        if (!titles.get(pid)) return;
        const stat = await readFile(`/proc/${pid}/stat`, "utf8");
        // Fields after the ")" closing the command name: utime and stime are the 12th and 13th.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
        seen.set(pid, Math.max(seen.get(pid) ?? 0, ms));
      } catch {
        // The process ended meanwhile.
      }
    }),
  );
}
