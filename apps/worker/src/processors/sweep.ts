import { JOBS, type SweepDeps, sweep } from "@journeys/core";
import { defineProcessor } from "./base.ts";

/** sweep (repeatable, once per interval across all workers): re-enqueue what Redis lost. */
export const sweepProcessor = (deps: SweepDeps) => defineProcessor(JOBS.sweep, () => sweep(deps));
