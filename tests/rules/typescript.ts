function run(input: string): number {
  // ruleid: ts-any-cast
  const value = input as any;
  // ok: ts-any-cast
  const text = input as string;
  // ruleid: ts-eval
  eval(input);
  // ruleid: ts-settimeout-string
  setTimeout("tick()", 100);
  // ok: ts-settimeout-string
  setTimeout(tick, 100);
  // ruleid: ts-no-empty-catch
  try {
    risky();
  } catch (e) {
  }
  // ok: ts-no-empty-catch
  try {
    risky();
  } catch (e) {
    report(e);
  }
  return value + text.length;
}
