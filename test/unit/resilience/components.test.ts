/**
 * Start-up as components (lifecycle/components.ts): start in order; a failure stops what
 * already started, in reverse, and throws StartError naming the component; stop goes in
 * reverse even when some throw and returns the errors; stop is idempotent.
 */
import t from 'tap';
import { type Component, Components, StartError } from '../../../supervisor/src/lifecycle/components.js';
import { recordingLog, settle } from './fakes.js';

function comp(name: string, trace: string[], opts: { failStart?: boolean; failStop?: boolean; slowStop?: boolean } = {}): Component {
  return {
    name,
    async start() {
      trace.push(`start ${name}`);
      await settle(1);
      if (opts.failStart) throw new Error(`${name} cannot bind`);
    },
    async stop() {
      trace.push(`stop ${name}`);
      if (opts.slowStop) await new Promise((r) => setTimeout(r, 20));
      await settle(1);
      if (opts.failStop) throw new Error(`${name} stuck`);
      trace.push(`stopped ${name}`);
    },
  };
}

t.test('starts in order and stops in reverse; each component once', async (t) => {
  const trace: string[] = [];
  const { log } = recordingLog();
  const c = new Components(log);
  await c.start([comp('store', trace), { name: 'no hooks' }, comp('api', trace), comp('monitors', trace)]);
  t.same(trace, ['start store', 'start api', 'start monitors']);
  t.same(c.names(), ['store', 'no hooks', 'api', 'monitors']);
  trace.length = 0;
  const errors = await c.stop();
  t.same(errors, []);
  t.same(trace, ['stop monitors', 'stopped monitors', 'stop api', 'stopped api', 'stop store', 'stopped store']);
  t.same(c.names(), []);
});

t.test('a failing start stops what started (reverse), starts nothing after, and throws StartError naming it', async (t) => {
  const trace: string[] = [];
  const { log, lines } = recordingLog();
  const c = new Components(log);
  const err = await c.start([comp('a', trace), comp('b', trace), comp('c', trace, { failStart: true }), comp('d', trace)]).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, StartError);
  t.equal((err as StartError).component, 'c');
  t.match((err as StartError).message, /^c: c cannot bind$/);
  t.equal(((err as StartError).cause as Error).message, 'c cannot bind', 'the cause is kept');
  t.same(trace, ['start a', 'start b', 'start c', 'stop b', 'stopped b', 'stop a', 'stopped a'], 'c is not stopped, d never started');
  t.same(c.names(), [], 'nothing left running');
  t.ok(
    lines.some((l) => l.level === 'error' && l.obj.component === 'c'),
    'the failure is logged with the component',
  );
});

t.test('a StartError from a nested start is passed on as it is', async (t) => {
  const { log } = recordingLog();
  const inner = new StartError('inner', new Error('x'));
  const c = new Components(log);
  const err = await c
    .start([
      {
        name: 'outer',
        start: () => {
          throw inner;
        },
      },
    ])
    .catch((e: unknown) => e);
  t.equal(err, inner);
});

t.test('stop goes on past failures (reverse order), returns them, and never throws', async (t) => {
  const trace: string[] = [];
  const { log, lines } = recordingLog();
  const c = new Components(log);
  await c.start([comp('a', trace, { failStop: true }), comp('b', trace), comp('c', trace, { failStop: true, slowStop: true }), comp('d', trace)]);
  trace.length = 0;
  const errors = await c.stop();
  t.same(trace, ['stop d', 'stopped d', 'stop c', 'stop b', 'stopped b', 'stop a'], 'every component stopped in reverse; each awaited before the next');
  t.same(
    errors.map((e) => e.message),
    ['c: c stuck', 'a: a stuck'],
  );
  t.equal((errors[0]?.cause as Error | undefined)?.message, 'c stuck');
  t.same(
    lines.filter((l) => l.level === 'error').map((l) => l.obj.component),
    ['c', 'a'],
    'each failure logged with its name',
  );
});

t.test('stop is idempotent, also when called twice at once', async (t) => {
  const trace: string[] = [];
  const { log } = recordingLog();
  const c = new Components(log);
  await c.start([comp('a', trace, { slowStop: true }), comp('b', trace, { failStop: true })]);
  trace.length = 0;
  const [e1, e2] = await Promise.all([c.stop(), c.stop()]);
  const e3 = await c.stop();
  t.same(trace, ['stop b', 'stop a', 'stopped a'], 'each component stopped once');
  t.equal(e1.length, 1);
  t.same(e2, e1);
  t.same(e3, e1, 'a later stop reports the same result and stops nothing again');
});

t.test('a failing start whose clean-up also fails still throws the StartError', async (t) => {
  const trace: string[] = [];
  const { log } = recordingLog();
  const c = new Components(log);
  const err = await c.start([comp('a', trace, { failStop: true }), comp('b', trace, { failStart: true })]).catch((e: unknown) => e);
  t.type(err, StartError);
  t.equal((err as StartError).component, 'b');
  t.same(trace, ['start a', 'start b', 'stop a']);
});
