// Progress bar on stderr, shown only when stderr is a TTY (never in pipes, CI or --json runs).
import cliProgress from "cli-progress";
import type { SourceProgress } from "../app/index.ts";

export interface Progress {
  update(p: SourceProgress): void;
  stop(): void;
}

const silent: Progress = { update: () => {}, stop: () => {} };

/** A byte-based progress bar for reading a capture; a no-op when stderr is not a terminal. */
export function progressBar(label: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {done} of {total_h} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  return {
    update(p) {
      const total = p.totalBytes ?? 0;
      if (!started) {
        bar.start(total > 0 ? total : 1, 0, { done: mb(0), total_h: total > 0 ? mb(total) : "?" });
        started = true;
      }
      bar.update(total > 0 ? Math.min(p.bytesRead, total) : 0, {
        done: mb(p.bytesRead),
        total_h: total > 0 ? mb(total) : "?",
      });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A counting progress bar (rounds, epochs) on stderr; a no-op when stderr is not a terminal. */
export function countBar(
  label: string,
  enabled = process.stderr.isTTY === true,
): { update(done: number, total: number, note: string): void; stop(): void } {
  if (!enabled) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | {note} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, note) {
      if (!started) {
        bar.start(Math.max(1, total), 0, { note });
        started = true;
      }
      bar.setTotal(Math.max(1, total));
      bar.update(Math.min(done, total), { note });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
