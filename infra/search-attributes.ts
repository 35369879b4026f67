/**
 * The names of gridflow's Temporal search attributes (all Keyword). Infra registers them on a cluster
 * and the workflow sets them, so the names live here, in a module with no imports, which the
 * deterministic workflow code may take without reaching anything that does I/O.
 */
export const SEARCH_ATTRIBUTES = {
  definition: 'GridflowDefinition',
  grid: 'GridflowGrid',
  community: 'GridflowCommunity',
  state: 'GridflowState',
} as const;
