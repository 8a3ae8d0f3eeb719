import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import {
  createOnoffBackend,
  FakeGpioBackend,
  findGpioChip,
  globalGpioNumber,
  type Level,
  type LineSpec,
  SenseInput,
  SwitchOutput,
} from '../../../hardware/gpio/index.js';
import { GpioConfigSchema } from '../../../supervisor/src/config/power.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { openPowerOutputs } from '../../../supervisor/src/monitors/gpioLines.js';
import { GpioMonitor } from '../../../supervisor/src/monitors/gpioMonitor.js';
import { LineRelayActuator } from '../../../supervisor/src/reconcilers/lineRelay.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

const CHIP = 'pinctrl-bcm2711';
const spec = (line: number, activeLow = false, name = `in${line}`): LineSpec => ({ name, chipLabel: CHIP, line, activeLow });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('contact bounce yields exactly one change', async (t) => {
  const fake = new FakeGpioBackend();
  const input = await SenseInput.open(fake, spec(17), { debounceMs: 80, rereadMs: 1000 });
  t.teardown(() => input.close());
  const changes: Level[] = [];
  input.on('change', (l) => changes.push(l));
  t.equal(input.state.level, 0);
  // A relay contact closing: 8 bounces 4 ms apart, then it stays closed.
  for (let i = 0; i < 8; i++) {
    fake.setLevel(CHIP, 17, (i % 2 === 0 ? 1 : 0) as Level);
    await sleep(4);
  }
  fake.setLevel(CHIP, 17, 1);
  await waitFor(() => changes.length > 0, { timeoutMs: 30_000, what: 'the debounced change' });
  await sleep(200); // well past another debounce period: nothing more may come
  t.same(changes, [1], 'one change to 1');
  t.equal(input.state.level, 1);
  // A short glitch (shorter than the debounce) is no change at all.
  fake.setLevel(CHIP, 17, 0);
  await sleep(10);
  fake.setLevel(CHIP, 17, 1);
  await sleep(200);
  t.same(changes, [1], 'a 10 ms glitch is filtered');
});

t.test('an edge the kernel lost is caught by the periodic re-read', async (t) => {
  const fake = new FakeGpioBackend();
  const input = await SenseInput.open(fake, spec(5), { debounceMs: 20, rereadMs: 100 });
  t.teardown(() => input.close());
  const changes: Level[] = [];
  input.on('change', (l) => changes.push(l));
  const reads = () => fake.readCount.get(`${CHIP}/5`) ?? 0;
  const readsBefore = reads();
  fake.setLevel(CHIP, 5, 1, { edge: false });
  // No edge is delivered: only a periodic re-read can see the new level (then the debounce
  // confirms it with one more read). Caught at all = caught by the re-read.
  await waitFor(() => changes.length > 0, { timeoutMs: 30_000, what: 're-read to notice the level' });
  t.same(changes, [1]);
  t.ok(reads() >= readsBefore + 2, `it re-read the line after the change (a re-read and the debounce's confirming read: ${reads() - readsBefore})`);
});

t.test('active-low inputs and outputs invert', async (t) => {
  const fake = new FakeGpioBackend();
  fake.setLevel(CHIP, 6, 1); // pulled up, contact open
  const input = await SenseInput.open(fake, spec(6, true), { debounceMs: 10, rereadMs: 1000 });
  t.teardown(() => input.close());
  t.equal(input.state.level, 0, 'high electrical = logical 0 when active-low');
  fake.setLevel(CHIP, 6, 0); // contact closes to ground
  await waitFor(() => input.state.level === 1, { timeoutMs: 30_000, what: 'logical 1' });
  t.pass('low electrical = logical 1');

  const out = await SwitchOutput.open(fake, spec(22, true, 'lamp'), false);
  t.equal(fake.level(CHIP, 22), 1, 'off = electrical high when active-low');
  await out.set(true);
  t.equal(fake.level(CHIP, 22), 0);
  t.equal(await out.isOn(), true);
});

t.test('a line that cannot be opened or read is a sensor fault signal, and recovers', async (t) => {
  const fake = new FakeGpioBackend();
  fake.failOpen(CHIP, 4, 'EBUSY (claimed by gpio-keys overlay)');
  fake.setLevel(CHIP, 27, 1);
  const gpio = GpioConfigSchema.parse({
    enabled: true,
    inputs: { mains: { line: 27, debounceMs: 10, rereadMs: 100 }, lowBattery: { line: 4, rereadMs: 100 } },
  });
  const mon = new GpioMonitor({ gpio, backend: fake });
  const seen: Signal[] = [];
  await mon.start((s) => seen.push(s));
  t.teardown(() => mon.stop());
  const lb = seen.find((s) => s.key === 'power.gpio.lowBattery');
  t.match(lb, { status: 'unknown', value: null, detail: /sensor fault.*EBUSY/, source: 'gpio:fake' });
  t.match(
    seen.find((s) => s.key === 'power.gpio.mains'),
    { status: 'ok', value: 'online', ttlMs: 300 },
  );
  t.notOk(
    seen.some((s) => s.key === 'power.gpio.onBattery'),
    'unconfigured input emits nothing',
  );

  // A read error at run time: unknown with the cause, then back to a reading.
  fake.failReads(CHIP, 27, 'EIO');
  await waitFor(() => seen.some((s) => s.key === 'power.gpio.mains' && s.status === 'unknown'), { timeoutMs: 30_000, what: 'mains fault' });
  t.match(seen.filter((s) => s.key === 'power.gpio.mains').at(-1), { status: 'unknown', value: null, detail: /EIO/ });
  fake.failReads(CHIP, 27, null);
  fake.setLevel(CHIP, 27, 0);
  await waitFor(() => seen.filter((s) => s.key === 'power.gpio.mains').at(-1)?.value === 'battery', { timeoutMs: 30_000, what: 'mains absent' });
  t.match(seen.filter((s) => s.key === 'power.gpio.mains').at(-1), { status: 'warn', value: 'battery' });
});

t.test('the real onoff backend on a host without GPIO gives a sensor fault, not a crash', async (t) => {
  const gpio = GpioConfigSchema.parse({ enabled: true, inputs: { onBattery: { line: 23, rereadMs: 1000 } } });
  const mon = new GpioMonitor({ gpio, backend: createOnoffBackend() });
  const seen: Signal[] = [];
  await mon.start((s) => seen.push(s));
  t.teardown(() => mon.stop());
  const s = seen.find((x) => x.key === 'power.gpio.onBattery');
  t.match(s, { status: 'unknown', value: null, source: 'gpio:onoff' });
  t.match(s?.detail, /sensor fault: GPIO "onBattery" \(pinctrl-bcm2711 line 23\): (GPIO is not accessible|cannot load onoff|no GPIO sysfs)/);
  t.comment(`onoff here: ${s?.detail}`);
});

t.test('chip base is found by label in a sysfs tree (bookworm numbers from 512)', async (t) => {
  const { dir, cleanup } = await scratchDir('gpio');
  t.teardown(cleanup);
  const chip = async (n: string, label: string, base: number, ngpio: number) => {
    await mkdir(path.join(dir, n));
    await writeFile(path.join(dir, n, 'label'), `${label}\n`);
    await writeFile(path.join(dir, n, 'base'), `${base}\n`);
    await writeFile(path.join(dir, n, 'ngpio'), `${ngpio}\n`);
  };
  await chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
  await chip('gpiochip570', 'raspberrypi-exp-gpio', 570, 8);
  await writeFile(path.join(dir, 'export'), '');
  t.match(await findGpioChip('pinctrl-bcm2711', dir), { chip: 'gpiochip512', base: 512, ngpio: 58 });
  t.equal(await globalGpioNumber('pinctrl-bcm2711', 17, dir), 529, 'BCM 17 = sysfs 529 on bookworm');
  t.equal(await globalGpioNumber('raspberrypi-exp-gpio', 2, dir), 572);
  await t.rejects(globalGpioNumber('pinctrl-bcm2711', 58, dir), /outside gpiochip "pinctrl-bcm2711".*58 lines/);
  await t.rejects(findGpioChip('pinctrl-rp1', dir), /no gpiochip labelled "pinctrl-rp1".*found: pinctrl-bcm2711 \(gpiochip512\), raspberrypi-exp-gpio/);
  await t.rejects(findGpioChip('x', path.join(dir, 'nope')), /no GPIO sysfs at .*nope \(ENOENT\)/);
});

t.test('line relay: de-energised = backup, energised only for local, observe reads back', async (t) => {
  const fake = new FakeGpioBackend();
  const gpio = GpioConfigSchema.parse({ enabled: true, outputs: { lineRelay: { line: 26 }, alarmLamp: { line: 19, activeLow: true } } });
  const outs = await openPowerOutputs(gpio, fake);
  t.ok(outs.lineRelay && outs.alarmLamp);
  t.same(fake.writes(CHIP, 26), [0], 'relay opened de-energised (backup) before any decision');
  t.equal(fake.level(CHIP, 19), 1, 'active-low lamp opened dark (line high)');
  const relay = new LineRelayActuator(outs.lineRelay!);
  t.equal(await relay.observe(), 'backup');
  await relay.apply('local');
  t.equal(fake.level(CHIP, 26), 1, 'coil energised for local');
  t.equal(await relay.observe(), 'local');
  await relay.apply('local');
  t.equal(fake.level(CHIP, 26), 1, 'idempotent');
  t.match(await relay.verify('local'), { ok: true, detail: /energised \(local\)/ });
  await relay.apply('backup');
  t.equal(fake.level(CHIP, 26), 0, 'coil released for backup');
  // Someone else drives the line: drift shows in observe() and verify().
  fake.setLevel(CHIP, 26, 1);
  t.equal(await relay.observe(), 'local');
  t.match(await relay.verify('backup'), { ok: false });
  fake.failReads(CHIP, 26, 'EIO');
  t.equal(await relay.observe(), 'unknown');
  await t.rejects(relay.apply('local'), /line relay .* could not be energised: .*EIO/);
});

t.test('active-low relay output: local still means energised coil', async (t) => {
  const fake = new FakeGpioBackend();
  const gpio = GpioConfigSchema.parse({ enabled: true, outputs: { lineRelay: { line: 26, activeLow: true } } });
  const { lineRelay } = await openPowerOutputs(gpio, fake);
  t.equal(fake.level(CHIP, 26), 1, 'released = line high for an active-low driver board');
  const relay = new LineRelayActuator(lineRelay!);
  await relay.apply('local');
  t.equal(fake.level(CHIP, 26), 0);
  t.equal(await relay.observe(), 'local');
});
