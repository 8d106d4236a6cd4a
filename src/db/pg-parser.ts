import { hasSqlDetails, loadModule, type Node, parseSync, type ScanToken, scanSync } from "libpg-query";
import { SqlText } from "./sql-text.js";

/**
 * The real PostgreSQL parser (libpg_query, compiled to WebAssembly). Every question cutover asks of SQL
 * is answered from its parse tree or its token stream, never by matching SQL text.
 */
let loading: Promise<void> | null = null;

/** Loads the WebAssembly module once; every other function here needs it loaded. */
export function loadPgParser(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

/** A `-- cutover:allow <rule> <reason>` comment attached to a statement. */
export interface Allow {
  readonly rule: string;
  readonly reason: string;
  readonly line: number;
}

/** One top-level statement, with where it sits in its file. */
export interface Statement {
  readonly node: Node;
  /** The node's type, e.g. "AlterTableStmt". */
  readonly kind: string;
  /** The statement's text, without the semicolon. */
  readonly sql: string;
  readonly line: number;
  readonly column: number;
  readonly allows: readonly Allow[];
}

/** A comment token of the SQL, with its text. */
export interface SqlComment {
  readonly text: string;
  readonly startByte: number;
  readonly endByte: number;
  readonly line: number;
}

/** SQL the parser refuses, with the position it reported. */
export class SqlSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = "SqlSyntaxError";
    this.line = line;
    this.column = column;
  }
}

const ALLOW_PREFIX = "cutover:allow";
/** Space, tab, newline, vertical tab, form feed, carriage return: what the scanner skips between tokens. */
const WHITESPACE: ReadonlySet<number> = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/** Comments of `sql` (line and block), in order. Throws SqlSyntaxError on unterminated quotes. */
export function sqlComments(sql: string, lineOffset = 0): SqlComment[] {
  const text = new SqlText(sql);
  let tokens: ScanToken[];
  try {
    tokens = scanSync(sql).tokens;
  } catch (error) {
    throw syntaxError(error, text, lineOffset);
  }
  return tokens
    .filter((token) => token.tokenName === "SQL_COMMENT" || token.tokenName === "C_COMMENT")
    .map((token) => ({
      text: commentBody(text.slice(token.start, token.end)),
      startByte: token.start,
      endByte: token.end,
      line: text.lineOf(token.start) + lineOffset,
    }));
}

/** The statements of some SQL, and the allow comments no statement claims (e.g. after the last one). */
export interface ParsedSql {
  readonly statements: readonly Statement[];
  readonly danglingAllows: readonly Allow[];
}

/**
 * The statements of `sql`, each with the `cutover:allow` comments that belong to it: those before it
 * (after the previous statement), inside it, or trailing on the line where it ends.
 * `lineOffset` is added to every line number (the line of the file where `sql` starts, minus one).
 */
export function parseSql(sql: string, lineOffset = 0): ParsedSql {
  const text = new SqlText(sql);
  let raw: ReturnType<typeof parseSync>;
  try {
    raw = parseSync(sql);
  } catch (error) {
    throw syntaxError(error, text, lineOffset);
  }
  const comments = sqlComments(sql);
  const spans = (raw.stmts ?? []).map((stmt) => {
    const start = firstTokenByte(text, comments, stmt.stmt_location ?? 0);
    const end = stmt.stmt_len ? (stmt.stmt_location ?? 0) + stmt.stmt_len : text.byteLength;
    return { stmt, start, end };
  });
  const allows = attachAllows(comments, spans, text);
  const shift = (list: readonly Allow[] | undefined) =>
    (list ?? []).map((allow) => ({ ...allow, line: allow.line + lineOffset }));
  const statements = spans.flatMap(({ stmt, start, end }, index) => {
    const node = stmt.stmt;
    if (!node) return [];
    const statement: Statement = {
      node,
      kind: nodeKind(node),
      sql: text.slice(start, end).trim(),
      line: text.lineOf(start) + lineOffset,
      column: text.columnOf(start),
      allows: shift(allows.get(index)),
    };
    return [statement];
  });
  return { statements, danglingAllows: shift(allows.get(-1)) };
}

/** The type name of a node, e.g. "AlterTableStmt". */
export function nodeKind(node: Node): string {
  return Object.keys(node)[0] ?? "Unknown";
}

function attachAllows(
  comments: readonly SqlComment[],
  spans: readonly { start: number; end: number }[],
  text: SqlText,
): Map<number, Allow[]> {
  const byStatement = new Map<number, Allow[]>();
  for (const comment of comments) {
    if (!comment.text.startsWith(ALLOW_PREFIX)) continue;
    const [rule = "", ...reason] = comment.text.slice(ALLOW_PREFIX.length).trim().split(/\s+/);
    const allow = { rule, reason: reason.join(" "), line: comment.line };
    const index = owningStatement(comment, spans, text);
    byStatement.set(index, [...(byStatement.get(index) ?? []), allow]);
  }
  return byStatement;
}

/** Index of the statement a comment belongs to; -1 when none does. */
function owningStatement(
  comment: SqlComment,
  spans: readonly { start: number; end: number }[],
  text: SqlText,
): number {
  const inside = spans.findIndex((span) => comment.startByte >= span.start && comment.startByte < span.end);
  if (inside !== -1) return inside;
  let before = -1;
  spans.forEach((span, index) => {
    if (span.end <= comment.startByte) before = index;
  });
  const previous = spans[before];
  if (previous && text.lineOf(previous.end) === text.lineOf(comment.startByte)) return before;
  return spans.findIndex((span) => span.start > comment.startByte);
}

/** Where a statement's first token is: skips whitespace and comments after `location`. */
function firstTokenByte(text: SqlText, comments: readonly SqlComment[], location: number): number {
  let at = location;
  for (;;) {
    while (at < text.byteLength && WHITESPACE.has(text.byteAt(at))) at++;
    const comment = comments.find((c) => c.startByte === at);
    if (!comment) return at;
    at = comment.endByte;
  }
}

function commentBody(raw: string): string {
  if (raw.startsWith("--")) return raw.slice(2).trim();
  return raw
    .replace(/^\/\*+/, "")
    .replace(/\*+\/$/, "")
    .trim();
}

function syntaxError(error: unknown, text: SqlText, lineOffset: number): SqlSyntaxError {
  const message = error instanceof Error ? error.message : String(error);
  const position = hasSqlDetails(error) ? Math.max(0, (error.sqlDetails?.cursorPosition ?? 1) - 1) : 0;
  const byte = Math.min(position, text.byteLength);
  return new SqlSyntaxError(message, text.lineOf(byte) + lineOffset, text.columnOf(byte));
}
