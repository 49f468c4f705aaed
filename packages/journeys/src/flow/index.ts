/** The flow language's pure parts (issue 17): rules, templates and the write-time checks over a journey. */
export * from "./data.ts";
export * from "./graph.ts";
export * from "./rules.ts";
export * from "./templates.ts";
