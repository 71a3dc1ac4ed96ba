/** Collects process output up to a byte limit, remembering how much was dropped. */
export class BoundedOutput {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private dropped = 0;
  constructor(private limit: number) {}

  add(chunk: Uint8Array): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
    this.dropped += chunk.length - part.length;
  }

  async drain(stream: ReadableStream<Uint8Array> | null | undefined): Promise<void> {
    if (!stream) return;
    for await (const chunk of stream) this.add(chunk);
  }

  text(): string {
    const s = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped ? `${s}\n… (${this.dropped} bytes dropped)` : s;
  }
}
