/**
 * Power configuration: which UPSes to watch over NUT, which GPIO lines carry
 * the mains sense, UPS dry contacts, alarm lamp and line relay, and the
 * thresholds the core's power policy applies. This file only validates and
 * types; the decisions live in the pure core.
 */
import { z } from 'zod';

/** NUT UPS names are ups.conf section names: letters, digits and a few punctuation marks. */
const UPS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const UpsConfigSchema = z
  .object({
    /** The ups.conf section name on that upsd, e.g. `ups1`. Also the signal key part: `power.ups1.mains`. */
    name: z.string().regex(UPS_NAME, 'a ups.conf section name: letters, digits, "_", "." or "-"'),
    /** Signal key part when two upsd hosts use the same UPS name; defaults to `name`. */
    id: z.string().regex(UPS_NAME, 'letters, digits, "_", "." or "-"').optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(3493),
    /** upsd.users account (needs `upsmon secondary`); with it Vaktpost LOGINs like a secondary upsmon. */
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Poll period. upsmon's POLLFREQ default is 5 s; 1 s sees a mains loss 4 s sooner on average. */
    pollMs: z.number().int().min(200).max(60_000).default(500),
    /** Per-request timeout; a hung upsd becomes a monitoring fault after this long. */
    timeoutMs: z.number().int().min(100).max(30_000).default(2000),
    /** Idle keepalive; must stay below upsd's fixed 60 s idle drop. */
    keepaliveMs: z.number().int().min(100).max(30_000).default(20_000),
  })
  .strict()
  .refine((u) => (u.user === undefined) === (u.password === undefined), {
    message: 'set both user and password (as in upsd.users), or neither',
    path: ['password'],
  });
export type UpsConfig = z.infer<typeof UpsConfigSchema>;

/** The name used in signal keys: `power.<id>.mains`. */
export function upsId(u: Pick<UpsConfig, 'name' | 'id'>): string {
  return u.id ?? u.name;
}

/** A GPIO line, found by its chip's label (Raspberry Pi OS bookworm numbers sysfs GPIOs from 512, not 0). */
const lineFields = {
  /** gpiochip label as in /sys/class/gpio/gpiochip<N>/label; defaults to `gpio.chipLabel`. */
  chipLabel: z.string().min(1).optional(),
  /** Line offset on that chip (the BCM number on a Raspberry Pi). */
  line: z.number().int().min(0).max(1023),
  /** Logical 1 = electrical low (e.g. a contact to ground with a pull-up). */
  activeLow: z.boolean().default(false),
};

export const GpioInputConfigSchema = z
  .object({
    ...lineFields,
    /** A new level counts only after it stayed stable this long (contact bounce). */
    debounceMs: z.number().int().min(0).max(10_000).default(50),
    /** Re-read the level this often, to catch an edge the kernel lost. */
    rereadMs: z.number().int().min(50).max(60_000).default(1000),
  })
  .strict();
export type GpioInputConfig = z.infer<typeof GpioInputConfigSchema>;

export const GpioOutputConfigSchema = z.object({ ...lineFields }).strict();
export type GpioOutputConfig = z.infer<typeof GpioOutputConfigSchema>;

export const GpioConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Where the sysfs GPIO class lives; overridable for tests. */
    sysfsRoot: z.string().min(1).default('/sys/class/gpio'),
    /** Default chip label: `pinctrl-bcm2711` (Pi 4), `pinctrl-bcm2835` (Pi 3), `pinctrl-rp1` (Pi 5). */
    chipLabel: z.string().min(1).default('pinctrl-bcm2711'),
    inputs: z
      .object({
        /** Mains-present sense (e.g. an opto-isolated 230 V detector): logical 1 = mains present. */
        mains: GpioInputConfigSchema.optional(),
        /** UPS dry contact "on battery": logical 1 = on battery. */
        onBattery: GpioInputConfigSchema.optional(),
        /** UPS dry contact "low battery": logical 1 = low battery. */
        lowBattery: GpioInputConfigSchema.optional(),
      })
      .strict()
      .prefault({}),
    outputs: z
      .object({
        alarmLamp: GpioOutputConfigSchema.optional(),
        /** Line relay coil: energised = calls to the local centre; de-energised (and box dead) = backup. */
        lineRelay: GpioOutputConfigSchema.optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type GpioConfig = z.infer<typeof GpioConfigSchema>;

/** Thresholds the core's power policy applies (Vaktpost only moves calls; shutdown comes after). */
export const PowerPolicyConfigSchema = z
  .object({
    /** Fail over once mains has been out this long (apcupsd's ONBATTERYDELAY is 6 s; this is the call-routing delay). */
    failoverAfterOnBatteryS: z.number().min(0).max(86_400).default(120),
    /** Fail over when the UPS reports less runtime than this, whatever the time on battery. */
    minRuntimeS: z.number().min(0).max(86_400).default(300),
    /** Fail over at once on low battery (LB). */
    failoverOnLowBattery: z.boolean().default(true),
    /** Fail over at once on forced shutdown (FSD from the primary upsmon). */
    failoverOnFsd: z.boolean().default(true),
    /**
     * With several power sources (each UPS, and the GPIO contacts): how many failing ones make
     * power fail — `any` (one is enough), `all`, or `{ minHealthy: N }` (fail when fewer than N
     * are healthy). The same rule applied to critical sources (FSD, OB+LB) decides the safety floor.
     */
    upsRule: z.union([z.enum(['any', 'all']), z.strictObject({ minHealthy: z.number().int().min(1).max(32) })]).default('any'),
    /** Run after the calls are routed away and the backup path is verified, e.g. `["/sbin/shutdown","-h","+0"]`. */
    shutdownCommand: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type PowerPolicyConfig = z.infer<typeof PowerPolicyConfigSchema>;

export const PowerConfigSchema = z
  .object({
    ups: z
      .array(UpsConfigSchema)
      .default([])
      .refine((list) => new Set(list.map(upsId)).size === list.length, {
        message: 'UPS ids must be unique (they name the signals: power.<id>.mains) — set `id` when two hosts share a UPS name',
      }),
    gpio: GpioConfigSchema.prefault({}),
    policy: PowerPolicyConfigSchema.prefault({}),
  })
  .strict()
  .refine(
    (p) => {
      const rule = p.policy.upsRule;
      return typeof rule === 'string' || rule.minHealthy <= p.ups.length + (p.gpio.enabled ? 1 : 0);
    },
    {
      message: 'upsRule.minHealthy is more than the number of power sources (each UPS, plus the GPIO contacts when enabled): power would always fail',
      path: ['policy', 'upsRule', 'minHealthy'],
    },
  );
export type PowerConfig = z.infer<typeof PowerConfigSchema>;
