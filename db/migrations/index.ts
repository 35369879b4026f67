import { Migration20261125000000_initial } from './Migration20261125000000_initial';
import { Migration20261125100000_community } from './Migration20261125100000_community';
import { Migration20261125200000_links } from './Migration20261125200000_links';
import { Migration20261125300000_audit } from './Migration20261125300000_audit';
import { Migration20261125400000_read_indexes } from './Migration20261125400000_read_indexes';
import { Migration20261125500000_delivery } from './Migration20261125500000_delivery';
import { Migration20261125600000_pii } from './Migration20261125600000_pii';
import { Migration20261126200000_partners } from './Migration20261126200000_partners';
import { Migration20261126100000_intake_evidence } from './Migration20261126100000_intake_evidence';
import { Migration20261129000000_definition_status } from './Migration20261129000000_definition_status';
import { Migration20261202100000_rota } from './Migration20261202100000_rota';
import { Migration20261202300000_sessions } from './Migration20261202300000_sessions';
import { Migration20261202200000_registry } from './Migration20261202200000_registry';
import { Migration20261203100000_tenancy } from './Migration20261203100000_tenancy';
import { Migration20261203200000_definition_community } from './Migration20261203200000_definition_community';

/** Every migration, in order. New ones are appended here (`npm run migration:create`). */
export const migrations = [
  { name: 'Migration20261125000000_initial', class: Migration20261125000000_initial },
  { name: 'Migration20261125100000_community', class: Migration20261125100000_community },
  { name: 'Migration20261125200000_links', class: Migration20261125200000_links },
  { name: 'Migration20261125300000_audit', class: Migration20261125300000_audit },
  { name: 'Migration20261125400000_read_indexes', class: Migration20261125400000_read_indexes },
  { name: 'Migration20261125500000_delivery', class: Migration20261125500000_delivery },
  { name: 'Migration20261125600000_pii', class: Migration20261125600000_pii },
  { name: 'Migration20261126100000_intake_evidence', class: Migration20261126100000_intake_evidence },
  { name: 'Migration20261126200000_partners', class: Migration20261126200000_partners },
  { name: 'Migration20261129000000_definition_status', class: Migration20261129000000_definition_status },
  { name: 'Migration20261202100000_rota', class: Migration20261202100000_rota },
  { name: 'Migration20261202300000_sessions', class: Migration20261202300000_sessions },
  { name: 'Migration20261202200000_registry', class: Migration20261202200000_registry },
  { name: 'Migration20261203100000_tenancy', class: Migration20261203100000_tenancy },
  { name: 'Migration20261203200000_definition_community', class: Migration20261203200000_definition_community },
];
