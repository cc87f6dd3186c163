// Zeek conn.log features: names and docs, values for known records, no identifiers, finite on junk.
import { describe, expect, it } from "vitest";
import {
  ZEEK_CONN_FEATURE_COUNT,
  ZEEK_CONN_FEATURES,
  type ZeekConnFields,
  zeekConnFeatures,
} from "./zeek-conn-features.ts";

const EMPTY: ZeekConnFields = {
  duration: null,
  orig_bytes: null,
  resp_bytes: null,
  orig_pkts: null,
  resp_pkts: null,
  orig_ip_bytes: null,
  resp_ip_bytes: null,
  missed_bytes: null,
  proto: null,
  conn_state: null,
  history: null,
};

function features(r: Partial<ZeekConnFields>): Record<string, number> {
  const out = new Float64Array(ZEEK_CONN_FEATURE_COUNT);
  zeekConnFeatures({ ...EMPTY, ...r }, out);
  return Object.fromEntries(ZEEK_CONN_FEATURES.map((f, i) => [f.name, out[i]!]));
}

describe("zeek conn features", () => {
  it("names and explains every feature, and none is an identifier", () => {
    const names = ZEEK_CONN_FEATURES.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of ZEEK_CONN_FEATURES) expect(f.doc.length).toBeGreaterThan(10);
    for (const id of [
      "id.orig_h",
      "id.resp_h",
      "id.orig_p",
      "id.resp_p",
      "uid",
      "ts",
      "local_orig",
      "local_resp",
    ])
      expect(names).not.toContain(id);
  });

  it("describes an answered TLS connection (a real 008 record)", () => {
    const f = features({
      duration: 1.135424,
      orig_bytes: 1596,
      resp_bytes: 4039,
      orig_pkts: 14,
      resp_pkts: 16,
      orig_ip_bytes: 1016,
      resp_ip_bytes: 1226,
      missed_bytes: 5138,
      proto: "tcp",
      conn_state: "SF",
      history: "ShADdaFf",
    });
    expect(f.duration).toBeCloseTo(Math.log1p(1.135424), 12);
    expect(f.orig_bytes_per_pkt).toBeCloseTo(Math.log1p(1016 / 14), 12);
    expect(f.resp_byte_share).toBeCloseTo(1226 / 2242, 12);
    expect(f.resp_pkt_share).toBeCloseTo(16 / 30, 12);
    expect(f.pkt_rate).toBeCloseTo(Math.log1p(30 / 1.135424), 12);
    expect(f.payload_share).toBe(1); // sequence-based sizes exceed the IP bytes seen here (gaps)
    expect([f.proto_tcp, f.proto_udp, f.state_SF, f.state_S0, f.state_other]).toEqual([1, 0, 1, 0, 0]);
    expect([f.hist_S, f.hist_h, f.hist_A, f.hist_D, f.hist_d, f.hist_a, f.hist_F, f.hist_f]).toEqual([
      1, 1, 1, 1, 1, 1, 1, 1,
    ]);
    expect([f.hist_R, f.hist_r, f.hist_orig_letters, f.hist_resp_letters]).toEqual([0, 0, 4, 4]);
  });

  it("describes an unanswered SYN", () => {
    const f = features({
      duration: 0.00001,
      orig_pkts: 2,
      orig_ip_bytes: 80,
      resp_pkts: 0,
      resp_ip_bytes: 0,
      orig_bytes: 0,
      resp_bytes: 0,
      proto: "tcp",
      conn_state: "S0",
      history: "S",
    });
    expect([f.state_S0, f.hist_S, f.hist_orig_letters, f.hist_resp_letters, f.resp_pkt_share]).toEqual([
      1, 1, 1, 0, 0,
    ]);
    expect(f.resp_bytes_per_pkt).toBe(0);
  });

  it("counts repeated, pooled and flipped history letters", () => {
    const f = features({ proto: "tcp", history: "^ShADTTtWwCcIqGg" });
    expect([f.hist_T, f.hist_t, f.hist_W, f.hist_w, f.hist_G, f.hist_g]).toEqual([2, 1, 1, 1, 1, 1]);
    expect([f.hist_other_orig, f.hist_other_resp, f.hist_flipped]).toEqual([2, 2, 1]);
  });

  it("stays finite on unset, negative, infinite and unknown values", () => {
    const out = new Float64Array(ZEEK_CONN_FEATURE_COUNT + 2).fill(7);
    zeekConnFeatures(
      {
        duration: -1,
        orig_bytes: Number.POSITIVE_INFINITY,
        resp_bytes: Number.NaN,
        orig_pkts: null,
        resp_pkts: -5,
        orig_ip_bytes: 1e308,
        resp_ip_bytes: 0,
        missed_bytes: null,
        proto: "sctp",
        conn_state: "??",
        history: `${"\u00e9€".repeat(10)}${"S".repeat(1000)}`,
      },
      out,
      1,
    );
    expect(out[0]).toBe(7);
    expect(out[ZEEK_CONN_FEATURE_COUNT + 1]).toBe(7);
    for (let i = 1; i <= ZEEK_CONN_FEATURE_COUNT; i++) expect(Number.isFinite(out[i]!)).toBe(true);
    const f = features({ proto: "sctp", conn_state: "??" });
    expect([f.proto_other, f.state_other]).toEqual([1, 1]);
  });
});
