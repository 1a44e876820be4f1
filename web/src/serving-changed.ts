/** Fired on window after a promotion or rollback succeeds: views that show what is served read it again. */
export const SERVING_CHANGED = 'ragtune:serving-changed'
