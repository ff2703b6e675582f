import { abortable, SharedCheck } from './abort';

describe('abortable', () => {
  it('rejects with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const never = new Promise<void>(() => undefined);
    const pending = abortable(never, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('passes results and errors through', async () => {
    await expect(abortable(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    await expect(abortable(Promise.reject(new Error('boom')), undefined)).rejects.toThrow('boom');
  });
});

describe('SharedCheck', () => {
  it('serves one outcome to every caller within its time to live, and checks again after', async () => {
    let now = 0;
    let calls = 0;
    let fail = true;
    const check = new SharedCheck(1_000, () => now);
    const run = () =>
      check.run(async () => {
        calls += 1;
        if (fail) throw new Error('down');
      });
    await Promise.all([expect(run()).rejects.toThrow('down'), expect(run()).rejects.toThrow('down')]);
    expect(calls).toBe(1); // concurrent callers share the check in flight
    fail = false;
    now = 999;
    await expect(run()).rejects.toThrow('down'); // the failure is cached too
    now = 1_000;
    await expect(run()).resolves.toBeUndefined();
    await expect(run()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('with a time to live of 0 checks every time', async () => {
    let calls = 0;
    const check = new SharedCheck(0);
    await check.run(async () => void (calls += 1));
    await check.run(async () => void (calls += 1));
    expect(calls).toBe(2);
  });
});
