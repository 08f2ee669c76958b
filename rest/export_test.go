package rest

// BodyBudgetInUse returns the bytes the bodies h is reading hold of its
// own body budget ([WithBodyBudget]), so that a test can wait until a
// slow body holds it before it sends another.
func BodyBudgetInUse(h *Handler) int64 { return h.cfg.budget.InUse() }
