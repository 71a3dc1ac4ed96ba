// Types of common.mjs (shared by the Bun and Node runners).
export declare const N: number;
export declare const RATE: number;
export declare const LAT_SECONDS: number;
export declare function now(): number;
export declare function sleep(ms: number): Promise<void>;
export declare function pct(values: number[], p: number): number | null;
export declare function report(name: string, results: Record<string, unknown>): void;
export declare function offer(push: (i: number, t: number) => unknown): Promise<number>;
