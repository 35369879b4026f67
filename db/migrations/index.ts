import { Migration20261125000000_initial } from './Migration20261125000000_initial';

/** Every migration, in order. New ones are appended here (`npm run migration:create`). */
export const migrations = [{ name: 'Migration20261125000000_initial', class: Migration20261125000000_initial }];
