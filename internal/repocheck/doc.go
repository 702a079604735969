// Package repocheck holds tests about the repository as a whole: formatting,
// and the promises the README makes.
package repocheck
