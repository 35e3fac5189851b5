/** SSD1306 command bytes (datasheet rev 1.1, section 9) and the control bytes that precede them on I2C. */
export const CONTROL_COMMANDS = 0x00; // Co=0, D/C#=0: every following byte is a command
export const CONTROL_DATA = 0x40; // Co=0, D/C#=1: every following byte is display data
export const CONTROL_CONTINUATION = 0x80; // Co=1: one byte follows, then another control byte

export const Cmd = {
  MEMORY_MODE: 0x20,
  COLUMN_ADDR: 0x21,
  PAGE_ADDR: 0x22,
  SCROLL_RIGHT: 0x26,
  SCROLL_LEFT: 0x27,
  SCROLL_VERTICAL_RIGHT: 0x29,
  SCROLL_VERTICAL_LEFT: 0x2a,
  SCROLL_STOP: 0x2e,
  SCROLL_START: 0x2f,
  START_LINE: 0x40,
  CONTRAST: 0x81,
  CHARGE_PUMP: 0x8d,
  SEG_REMAP_OFF: 0xa0,
  SEG_REMAP_ON: 0xa1,
  VERTICAL_SCROLL_AREA: 0xa3,
  RESUME_RAM: 0xa4,
  ENTIRE_ON: 0xa5,
  NORMAL: 0xa6,
  INVERT: 0xa7,
  MULTIPLEX: 0xa8,
  DISPLAY_OFF: 0xae,
  DISPLAY_ON: 0xaf,
  PAGE_START: 0xb0,
  COM_SCAN_INC: 0xc0,
  COM_SCAN_DEC: 0xc8,
  DISPLAY_OFFSET: 0xd3,
  CLOCK_DIV: 0xd5,
  PRECHARGE: 0xd9,
  COM_PINS: 0xda,
  VCOM_DETECT: 0xdb,
  NOP: 0xe3,
} as const;

/** Memory addressing modes selected by 0x20. */
export enum AddressingMode {
  Horizontal = 0,
  Vertical = 1,
  Page = 2,
}

/** How many parameter bytes follow each multi-byte command. Single-byte commands are absent. */
export function parameterCount(command: number): number {
  switch (command) {
    case Cmd.MEMORY_MODE:
    case Cmd.CONTRAST:
    case Cmd.CHARGE_PUMP:
    case Cmd.MULTIPLEX:
    case Cmd.DISPLAY_OFFSET:
    case Cmd.CLOCK_DIV:
    case Cmd.PRECHARGE:
    case Cmd.COM_PINS:
    case Cmd.VCOM_DETECT:
      return 1;
    case Cmd.COLUMN_ADDR:
    case Cmd.PAGE_ADDR:
    case Cmd.VERTICAL_SCROLL_AREA:
      return 2;
    case Cmd.SCROLL_VERTICAL_RIGHT:
    case Cmd.SCROLL_VERTICAL_LEFT:
      return 5;
    case Cmd.SCROLL_RIGHT:
    case Cmd.SCROLL_LEFT:
      return 6;
    default:
      return 0;
  }
}
