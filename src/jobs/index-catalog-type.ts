import type { IndexSize } from './retention-policy.js';

/** The indices of the cluster as retention sees them: listed with sizes, deleted one by one. */
export interface IndexCatalog {
  /**
   * The open indices that may be managed (mlog-*, personaldata-*, mlog_rejections-*, or the narrower
   * expressions the catalog was built with), with document counts and sizes. The names are not
   * checked here: the retention policy decides which are managed.
   */
  list(): Promise<IndexSize[]>;
  /** Deletes exactly the index `name`, never a pattern; false when it no longer exists. */
  delete(name: string): Promise<boolean>;
}
