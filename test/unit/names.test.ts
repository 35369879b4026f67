import { nameGrids } from '../../services/names';

describe('grid names in text meant for people', () => {
  const names = new Map([
    ['grid-03', '第三网格'],
    ['grid-1', '一号网格'],
    ['grid-10', '十号网格'],
  ]);

  it('replaces a grid id standing as a word, next to Chinese text or punctuation', () => {
    expect(nameGrids('督办：grid-03 巡查「开始巡查」已超时', names)).toBe('督办：第三网格 巡查「开始巡查」已超时');
    expect(nameGrids('grid-03巡查提醒', names)).toBe('第三网格巡查提醒');
    expect(nameGrids('Patrol of grid-03.', names)).toBe('Patrol of 第三网格.');
  });

  it('leaves ids inside codes alone: a business key, a longer id, a file name', () => {
    expect(nameGrids('daily-patrol/grid-03/2026-11-25', names)).toBe('daily-patrol/grid-03/2026-11-25');
    expect(nameGrids('grid-03/2026-11-25', names)).toBe('grid-03/2026-11-25');
    expect(nameGrids('grid-030 grid-03x m-grid-03-worker grid-03.csv', names)).toBe('grid-030 grid-03x m-grid-03-worker grid-03.csv');
  });

  it('takes the longest id, so grid-10 is not read as grid-1 and a 0', () => {
    expect(nameGrids('grid-10 和 grid-1', names)).toBe('十号网格 和 一号网格');
  });

  it('leaves text alone when the registry has no grids', () => {
    expect(nameGrids('grid-03', new Map())).toBe('grid-03');
  });
});
