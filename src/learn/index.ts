// Public entry of learn: labelled flow datasets (adapters per source, schema hash) and their train/valid/test splits.
export type { LoadOptions } from "./datasets/adapters.ts";
export { datasetSchemaHash, detectSource, hasCicFeatures, loadDataset } from "./datasets/load.ts";
export { MAX_CLASSES, MAX_HOSTS, MAX_LABEL_CHARS, MAX_LEVELS } from "./datasets/rows.ts";
export {
  CIC_BENIGN,
  CIC_FEATURES,
  CIC_IDENTIFIERS,
  DATASET_SOURCES,
  type DatasetSource,
  NSL_KDD_BINARY,
  NSL_KDD_CATEGORICAL,
  NSL_KDD_CATEGORIES,
  NSL_KDD_CATEGORY,
  NSL_KDD_FEATURES,
  UNKNOWN_CLASS,
  UNSW_BINARY,
  UNSW_CATEGORICAL,
  UNSW_FEATURES,
} from "./datasets/schemas.ts";
export type { CategoricalFeature, Dataset, RowKeys } from "./datasets/types.ts";
export { dropFeatures } from "./select.ts";
export {
  type DatasetSplit,
  type SplitFractions,
  type SplitMethod,
  splitDataset,
  stratifiedSplit,
  subset,
  timeSplit,
} from "./split.ts";
