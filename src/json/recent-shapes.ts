/**
 * What was worked out for the latest few shapes of objects (a shape: an object's own names, as
 * Object.keys lists them), the most recently used first. The events of one system mostly share a
 * few shapes, so the work (sorting their names, placing MLog's fields) is done once per shape.
 */
export class RecentShapes<T> {
  private readonly names: string[][] = [];
  private readonly values: T[] = [];

  /** @param size how many shapes are kept; beyond it, the least recently used is dropped. */
  constructor(
    private readonly size: number,
    /** Works out the value of a shape not kept (a function of the names alone). */
    private readonly make: (names: string[]) => T,
  ) {}

  /** The value of the shape `names`, worked out by `make` only when the shape is not kept. */
  of(names: string[]): T {
    for (let i = 0; i < this.names.length; i++) {
      if (!sameNames(this.names[i] as string[], names)) continue;
      const value = this.values[i] as T;
      if (i > 0) {
        this.names.unshift(...this.names.splice(i, 1));
        this.values.unshift(value);
        this.values.splice(i + 1, 1);
      }
      return value;
    }
    const value = this.make(names);
    this.names.unshift(names);
    this.values.unshift(value);
    if (this.names.length > this.size) {
      this.names.pop();
      this.values.pop();
    }
    return value;
  }
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
