// chai 6 ships no type declarations and @types/chai is not installed, which fails `tsc` under
// `strict` (TS7016). This shorthand declaration types the module as `any` until @types/chai is
// added to devDependencies; delete this file then.
declare module "chai";
