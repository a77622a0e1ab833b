export * from './errors.js';
export * from './names.js';
export * from './model.js';
export * from './target.js';
export * from './config.js';
export * from './crypto.js';
export * from './labels.js';
export * from './app-lock.js';
