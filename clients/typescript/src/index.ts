// Public entry point of the newsdesk TypeScript client.
export * from "./client.js";
export * from "./errors.js";
export type { paths, components } from "./generated/schema.js";
