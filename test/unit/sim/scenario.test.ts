import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadScenario, playScenario } from '../../../hardware/sim/scenario.js';
import { defaultSimState, SimBox } from '../../../hardware/sim/simBox.js';
import { scratchDir } from '../../helpers/util.js';

t.test('the shipped demo scenario loads and plays its steps in order', async (t) => {
  const scenario = loadScenario(path.resolve('ops/sim/scenario-power-cut.yaml'));
  t.equal(scenario.length, 3);
  // Play it compressed: same steps, times scaled to milliseconds.
  const box = new SimBox(defaultSimState(['ups1'], ['wan1']));
  const fast = scenario.map((s) => ({ ...s, at: s.at / 1000 }));
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    playScenario(box, fast, () => {
      seen.push(`${box.state.mainsPresent ? 'mains' : 'battery'}:${box.state.ups.ups1?.status}`);
      if (seen.length === 3) resolve();
    });
  });
  t.same(seen, ['battery:OB DISCHRG', 'battery:OB LB', 'mains:OL']);
});

t.test('a bad scenario names the step and the problem', async (t) => {
  const { dir, cleanup } = await scratchDir('scen');
  t.teardown(cleanup);
  const f = path.join(dir, 'bad.yaml');
  writeFileSync(f, '- at: 1\n  fault: meteor-strike\n');
  t.throws(() => loadScenario(f), /bad\.yaml: step 0/);
  const box = new SimBox(defaultSimState(['ups1'], ['wan1']));
  t.throws(() => box.apply({ ups: { nope: { status: 'OB' } } }), /unknown simulated UPS "nope"/);
});
