// Minimal typings for the parts of dns-packet 5.6.1 securely uses (the package ships none).
declare module "dns-packet" {
  export interface RdataCodec {
    encode(data: any, buf: Buffer, offset: number): Buffer;
    decode(buf: Buffer, offset: number): any;
    encodingLength(data: any): number;
  }
  export const record: (type: string) => RdataCodec & { encode: { bytes: number } & RdataCodec["encode"]; decode: { bytes: number } & RdataCodec["decode"] };
  export const name: { encode: any; decode: ((buf: Buffer, offset: number) => string) & { bytes: number }; encodingLength(n: string): number };
  export function encode(packet: any, buf?: Buffer, offset?: number): Buffer;
  export function decode(buf: Buffer, offset?: number): any;
  export function streamEncode(packet: any): Buffer;
  export function streamDecode(buf: Buffer): any;
  const _default: any;
  export default _default;
}
declare module "dns-packet/types.js" {
  const types: { toString(type: number): string; toType(name: string): number };
  export default types;
}
