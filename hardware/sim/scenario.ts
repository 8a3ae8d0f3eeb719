/**
 * Scenario files drive the simulated box over time, e.g.
 *   - at: 5
 *     fault: power-out
 *   - at: 20
 *     set: { links: { wan1: { reachable: false } } }
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { SIM_FAULTS, type SimBox, simPatchSchema } from './simBox.js';

const faultNames = Object.keys(SIM_FAULTS) as [keyof typeof SIM_FAULTS, ...Array<keyof typeof SIM_FAULTS>];

export const scenarioStepSchema = z.union([
  z.strictObject({ at: z.number().nonnegative(), fault: z.enum(faultNames), note: z.string().optional() }),
  z.strictObject({ at: z.number().nonnegative(), set: simPatchSchema, note: z.string().optional() }),
]);
export const scenarioSchema = z.array(scenarioStepSchema);
export type Scenario = z.infer<typeof scenarioSchema>;

export function loadScenario(file: string): Scenario {
  const parsed = scenarioSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`scenario ${file}: step ${first?.path.join('.') ?? '?'}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Plays the steps at their times; returns a stop function. */
export function playScenario(box: SimBox, scenario: Scenario, onStep?: (i: number) => void): () => void {
  const timers = scenario.map((s, i) =>
    setTimeout(() => {
      if ('fault' in s) box.injectFault(s.fault);
      else box.apply(s.set);
      onStep?.(i);
    }, s.at * 1000),
  );
  return () => {
    for (const t of timers) clearTimeout(t);
  };
}
