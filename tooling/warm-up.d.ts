export declare const WARM_UP_FUNCTION: string;
export declare function warmUpProvider(): Promise<void>;
