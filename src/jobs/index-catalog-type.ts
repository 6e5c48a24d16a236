/** What a monthly index MLog manages holds: whose events, or which shared kind, and its UTC month ("yyyy.MM"). */
export type ManagedIndexName =
  | { kind: 'events'; code: string; month: string }
  | { kind: 'personaldata'; month: string }
  | { kind: 'rejections'; month: string };

/** An index as the catalog lists it. */
export interface IndexSize {
  name: string;
  /** Documents in the primaries. */
  docs: number;
  /** Bytes on disk, replicas included. */
  bytes: number;
  /** What the index holds, read from its name by the catalog; undefined for a name MLog does not manage by month. */
  holds: ManagedIndexName | undefined;
}

/** The indices of the cluster as retention sees them: listed with sizes, deleted one by one. */
export interface IndexCatalog {
  /**
   * The open indices that may be managed (mlog-*, personaldata-*, mlog_rejections-*, or the narrower
   * expressions the catalog was built with), with document counts, sizes and what each holds. The
   * retention policy decides which are deleted; an index whose `holds` is undefined never is.
   */
  list(): Promise<IndexSize[]>;
  /** Deletes exactly the index `name`, never a pattern; false when it no longer exists. */
  delete(name: string): Promise<boolean>;
}
