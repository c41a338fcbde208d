/**
 * The task contracts: each task type's name, payload schema (zod) and defaults, declared once.
 * The consumer (src/tasks.ts) imports them, and so can any producer written in TypeScript;
 * `npx taskq contracts src/contracts.ts --json-schema` writes their JSON Schemas for producers
 * in other languages.
 */
import { z } from 'zod';
import { defineContract } from 'taskq/protocol';

export const WelcomeEmail = defineContract('welcome_email', z.object({ to: z.email(), name: z.string().optional() }), { timeoutMs: 10_000 });

export const ResizeImage = defineContract('resize_image', z.object({ key: z.string().min(1), width: z.number().int().positive() }), { maxAttempts: 3 });
