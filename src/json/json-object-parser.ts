import { parse as parseJsonAst, type ValueNode as JsonAstNode } from '@humanwhocodes/momoa';

export type JsonObject = Record<string, unknown>;
export type ParsedJsonObject = { ok: true; value: JsonObject } | { ok: false; reason: string };

/** Objects and arrays nested deeper than this are refused (Elasticsearch maps at most 20 levels). */
export const MAX_NESTING_DEPTH = 20;

/**
 * One linear scan of a JSON text: how many object members it holds (outside strings, a colon appears
 * only between a member's name and its value) and how deep objects and arrays nest.
 */
function scanJsonText(text: string): { members: number; depth: number } {
  let members = 0;
  let depth = 0;
  let maxDepth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 92 /* \ */) i++;
      else if (code === 34 /* " */) inString = false;
    } else if (code === 34) {
      inString = true;
    } else if (code === 58 /* : */) {
      members++;
    } else if (code === 123 /* { */ || code === 91 /* [ */) {
      if (++depth > maxDepth) maxDepth = depth;
    } else if (code === 125 /* } */ || code === 93 /* ] */) {
      depth--;
    }
  }
  return { members, depth: maxDepth };
}

function countMembersInValue(value: unknown): number {
  if (Array.isArray(value)) {
    let count = 0;
    for (const element of value) count += countMembersInValue(element);
    return count;
  }
  if (value !== null && typeof value === 'object') {
    let count = 0;
    for (const key in value) count += 1 + countMembersInValue((value as JsonObject)[key]);
    return count;
  }
  return 0;
}

/** The dotted path of the first repeated member name, found on the slow path that builds an AST. */
function firstDuplicatePath(text: string): string | undefined {
  const visit = (node: JsonAstNode, path: string): string | undefined => {
    if (node.type === 'Object') {
      const seen = new Set<string>();
      for (const member of node.members) {
        const name = member.name.type === 'String' ? member.name.value : member.name.name;
        const memberPath = path === '' ? name : `${path}.${name}`;
        if (seen.has(name)) return memberPath;
        seen.add(name);
        const found = visit(member.value, memberPath);
        if (found !== undefined) return found;
      }
    } else if (node.type === 'Array') {
      for (const [index, element] of node.elements.entries()) {
        const found = visit(element.value, `${path}[${index}]`);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return visit(parseJsonAst(text).body, '');
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Parses one JSON object, refusing anything else and any object that repeats a member name (at any
 * depth) or nests deeper than MAX_NESTING_DEPTH. The fast path is one linear scan plus JSON.parse; the
 * AST is built only to name a duplicate.
 */
export function parseJsonObject(text: string): ParsedJsonObject {
  const scan = scanJsonText(text);
  if (scan.depth > MAX_NESTING_DEPTH) {
    return { ok: false, reason: `nests objects and arrays ${scan.depth} levels deep; MLog accepts at most ${MAX_NESTING_DEPTH}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `is not valid JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: `is ${describeJsonType(value)}, not a JSON object` };
  }
  if (scan.members !== countMembersInValue(value)) {
    const path = firstDuplicatePath(text) ?? 'a member';
    return { ok: false, reason: `has the key "${path}" more than once` };
  }
  return { ok: true, value: value as JsonObject };
}
