// A labelled capture as a flow Dataset (Vigil's own flow records, CIC features), so the GRU can train on a capture.

import { err, ok, type Result, type VigilError } from "../../core/index.ts";
import { CIC_COLUMNS } from "../../flows/index.ts";
import type { Dataset } from "../../learn/index.ts";
import type { VigilConfig } from "../../schema/index.ts";
import { analyzeCapture } from "../analyze.ts";
import { BENIGN, readAttackWindows, WindowLabeler } from "../labels.ts";
import type { LabelledCapture } from "./payload.ts";

/**
 * Reads a capture through Vigil's flow table and returns its flow records as a Dataset: the 81 CIC
 * features (`CIC_COLUMNS`) per flow, the class by the capture's labels (a flow takes the type of the
 * window holding its first packet, or `labels.every`), the first-packet time, and the originator and
 * responder addresses as host keys (grouping only, never features). Rows are in start-time order.
 */
export async function captureFlowDataset(
  capture: LabelledCapture,
  config: VigilConfig,
  onProgress?: (p: { bytesRead: number; totalBytes: number | null }) => void,
): Promise<Result<Dataset, VigilError>> {
  let label: (ts: number, a: string, b: string) => string;
  if ("every" in capture.labels) {
    const t = capture.labels.every;
    label = () => t;
  } else {
    const windows = readAttackWindows(capture.labels.windows);
    if (!windows.ok) return err(windows.error);
    const labeler = new WindowLabeler(windows.value);
    label = (ts, a, b) => labeler.label(ts, a, b);
  }
  const flows: { cic: Float64Array; startUs: number; orig: string; resp: string; type: string }[] = [];
  const run = await analyzeCapture(capture.path, {
    config,
    ...(onProgress ? { onProgress } : {}),
    onFlow: (rec) => {
      const c = rec.conn;
      flows.push({
        cic: rec.cic.slice(), // rec.cic is a view into a shared block
        startUs: rec.firstUs,
        orig: c["id.orig_h"],
        resp: c["id.resp_h"],
        type: label(rec.firstUs / 1e6, c["id.orig_h"], c["id.resp_h"]),
      });
    },
  });
  if (!run.ok) return err(run.error);
  flows.sort((a, b) => a.startUs - b.startUs);
  const types = new Set(flows.map((f) => f.type));
  const classes = [BENIGN, ...[...types].filter((t) => t !== BENIGN).sort()];
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const hosts: string[] = [];
  const hostIndex = new Map<string, number>();
  const host = (h: string): number => {
    let i = hostIndex.get(h);
    if (i === undefined) {
      i = hosts.length;
      hosts.push(h);
      hostIndex.set(h, i);
    }
    return i;
  };
  const cols = CIC_COLUMNS.length;
  const x = new Float32Array(flows.length * cols);
  for (const [i, f] of flows.entries()) x.set(f.cic, i * cols);
  return ok({
    source: "vigil-flows",
    path: capture.path,
    featureNames: [...CIC_COLUMNS],
    categorical: [],
    x,
    rows: flows.length,
    cols,
    y: Int32Array.from(flows, (f) => classIndex.get(f.type)!),
    classes,
    benign: 0,
    time: Float64Array.from(flows, (f) => f.startUs),
    keys: {
      src: Int32Array.from(flows, (f) => host(f.orig)),
      dst: Int32Array.from(flows, (f) => host(f.resp)),
      hosts,
    },
    rejected: {},
  });
}
