export * from './document.schema';
export * from './data-schema';
export * from './time';
export * from './library';
export * from './compile';
export * from './engine';
