// node-forge ships no types and @types/node-forge is not a dependency: declare the module loosely.
declare module "node-forge" {
  const forge: any;
  export default forge;
}
