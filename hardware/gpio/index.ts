/** GPIO driver library: raw backends (onoff, fake), debounced sense inputs, switch outputs, chip lookup. */
export { FakeGpioBackend } from './fakeBackend.js';
export { SenseInput, type SenseInputEvents, type SenseInputOptions, type SenseInputState } from './input.js';
export { createOnoffBackend, type OnoffBackendOptions } from './onoffBackend.js';
export { SwitchOutput } from './output.js';
export { DEFAULT_SYSFS_GPIO, findGpioChip, type GpioChipInfo, globalGpioNumber, listGpioChips } from './sysfs.js';
export { describeLine, type GpioBackend, GpioError, type Level, type LineSpec, type RawInput, type RawOutput } from './types.js';
