/** HTTP/1.1 grammar shared by the request parser, the response parser and the pipeline (RFC 9110/9112). */

/** A token (tchar+, RFC 9110 §5.6.2): methods and field names. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** In a head: controls other than HTAB, and CR or LF outside a CRLF pair. */
export const BAD_HEAD_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;
/** A field value: visible characters, spaces and tabs, one byte each (latin1). */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
