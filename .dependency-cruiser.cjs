/**
 * MLog's architecture, checked in `npm test` (scripts/check-architecture.ts). The folders of src/, in
 * the direction the arrows point (docs/architecture.md):
 *   process entry (main.ts, cli, process) → composition → doors (http)
 *     → services (onboarding, rejections, jobs, events, auth, systems, audit)
 *     → shared ground (json, errors, config, logging)
 * storage implements the interfaces the services declare; only the composition (and the process
 * entry, through it) imports it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'No folder of src/ imports a folder that imports it back, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { circular: true },
    },
    {
      name: 'express-only-in-http',
      comment: 'Express is the HTTP door; nothing else knows it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/http/' },
      to: { path: '(^|/)node_modules/(express|@types/express)/' },
    },
    {
      name: 'elasticsearch-only-in-storage',
      comment: 'Only storage talks to Elasticsearch.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/storage/' },
      to: { path: '(^|/)node_modules/@elastic/elasticsearch/' },
    },
    {
      name: 'services-never-import-storage',
      comment: 'Doors and services see storage only through the interfaces they declare; the composition wires the implementations in.',
      severity: 'error',
      from: { path: '^src/(http|syslog|events|search|admins|systems|onboarding|rejections|audit|jobs|auth|evidence|json|errors|config|logging|metrics)/' },
      to: { path: '^src/storage/' },
    },
    {
      name: 'storage-only-through-composition',
      comment: 'The composition root is the one place that builds stores; the process entry and the CLI get them from it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(storage|composition)/' },
      to: { path: '^src/storage/' },
    },
    {
      name: 'shared-ground-imports-no-service',
      comment: 'json, errors, config and logging are the ground everything stands on: they import nothing else of src/.',
      severity: 'error',
      from: { path: '^src/(json|errors|config|logging)/' },
      to: { path: '^src/', pathNot: '^src/(json|errors|config|logging)/' },
    },
    {
      name: 'nothing-imports-the-entry',
      comment: 'The process entry (main.ts, cli/) is imported by nothing else in src/.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/(main[.]ts$|cli/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    exclude: { path: '^(node_modules|dist)/' },
  },
};
