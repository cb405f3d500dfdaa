export declare const WARM_UP_FUNCTION: string;
export declare function monitorAddress(argv: string[]): string | undefined;
export declare function invokeFrame(token: string): Buffer;
