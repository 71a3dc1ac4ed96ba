/** Job middleware for module handlers (`middleware: [rateLimited(…), …]` in defineJob). */
export { rateLimited } from "./rate-limited.ts";
export { withoutOverlapping } from "./without-overlapping.ts";
export { throttlesExceptions } from "./throttles-exceptions.ts";
