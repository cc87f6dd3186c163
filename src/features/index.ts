// Public entry of features: per-packet AfterImage statistics (host and DNS behaviour features join later).

export * from "./afterimage/index.ts";
export * from "./packet-window.ts";
