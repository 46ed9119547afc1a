// Package policy answers one question: given a device inventory, which
// findings does the company's messenger policy produce?
//
// It holds the messenger catalog (embedded YAML), the policy schema with
// strict, line-numbered loading, the embedded GDPR default policy, and the
// evaluation of an Inventory into Findings. It is pure: it never touches the
// operating system, so every rule is unit-tested with plain values.
package policy
