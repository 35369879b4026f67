import type { GeneratedCommunity } from '../../db/community.seed';

/**
 * The second community every test run has beside Shengshi: 林苑社区 of the same street (新华西街道),
 * three grids (`linyuan.grid-01` to `linyuan.grid-03`). Tests use it to show that nothing of one
 * community reaches another's roles, and the street sees both.
 */
export const TEST_SECOND_COMMUNITY: GeneratedCommunity = { id: 'linyuan', name: '林苑社区', street: { id: 'xinhuaxi', name: '新华西街道' }, grids: 3 };
