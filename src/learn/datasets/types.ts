// A labelled flow dataset loaded into typed arrays: the contract between the dataset adapters, the
// splits, `vigil train` / `vigil eval` and the supervised detectors.

/** A symbolic column encoded as integer codes 0..levels.length-1 (NaN for unseen/missing). */
export interface CategoricalFeature {
  /** Column index in `featureNames`. */
  index: number;
  levels: string[];
}

/** Identifier columns kept only for grouping, ordering and splitting: never features. */
export interface RowKeys {
  /** Source and destination host per row, interned into `hosts` (-1 when unknown). */
  src: Int32Array;
  dst: Int32Array;
  hosts: string[];
}

export interface Dataset {
  /** Adapter name: "cicids2017", "unsw-nb15", "nsl-kdd", "vigil-flows". */
  source: string;
  /** The file it came from. */
  path: string;
  /** Feature names in column order. */
  featureNames: string[];
  categorical: CategoricalFeature[];
  /** Rows × features, row-major. Missing values are NaN; infinities are kept as ±Infinity. */
  x: Float32Array;
  rows: number;
  cols: number;
  /** Class index per row into `classes`. */
  y: Int32Array;
  classes: string[];
  /** Index of the benign class in `classes`; -1 when no class is benign (unlabelled data). */
  benign: number;
  /** Flow start time per row in µs since the epoch, or null when the source has no time. */
  time: Float64Array | null;
  /** Host identifiers per row for grouping (sequence models), or null when the source has none. */
  keys: RowKeys | null;
  /** Lines that could not be read, counted by reason (never fatal). */
  rejected: Record<string, number>;
  /** Readable lines left out on purpose by a load option (e.g. `attempted: "drop"`), by reason. */
  dropped?: Record<string, number>;
  /**
   * Values that were kept but lost information, by reason: a categorical level or host beyond its cap, or a
   * level outside the fixed levels it was encoded with (each becomes NaN / -1).
   */
  capped?: Record<string, number>;
}
