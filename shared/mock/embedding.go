package mock

import (
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// embeddingDims is the vector size the mocks answer when a request names
// none; real models are larger, but 256 keeps unrelated words' vectors
// nearly orthogonal while keeping mock answers small.
const embeddingDims = 256

// Embedding is every mock provider's embedding of text: a deterministic
// unit vector in which a question's rewordings lie close, so that the
// semantic cache can be shown and tested offline. The text is folded to
// lower case and split into words (punctuation, order and spacing do not
// count); a word stands for a fixed pseudo-random direction drawn from its
// hash; and the vector is the weighted sum of its words' directions, where
// filler words ("the", "please", "can you tell me") weigh little and
// content words weigh fully. So "What's the capital of France?" and
// "Please tell me, France's capital?" are above 0.95 apart, while "What
// is the capital of Spain?" is far below it.
func Embedding(text string, dims int) []float64 {
	if dims <= 0 {
		dims = embeddingDims
	}
	v := make([]float64, dims)
	n := 0
	for _, w := range words(text) {
		addWord(v, w, wordWeight(w))
		n++
	}
	if n == 0 {
		addWord(v, "", 1) // no words: still a unit vector, the same for every such text
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = math.Round(v[i]/norm*1e6) / 1e6
	}
	return v
}

// words splits text into lower-case words, dropping possessive and
// contracted endings ("France's" is "france", "what's" is "what") and a
// plural "s", so that light rewordings give the same words.
func words(text string) []string {
	f := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '’'
	})
	out := f[:0]
	for _, w := range f {
		w = strings.Trim(w, "'’")
		if i := strings.IndexAny(w, "'’"); i > 0 {
			w = w[:i]
		}
		if _, ok := fillerWords[w]; !ok && len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// addWord adds w's direction, weighted, to v. The direction is a
// pseudo-random sequence seeded by the word's hash: the same for every
// call, independent of every other word's.
func addWord(v []float64, w string, weight float64) {
	h := fnv.New64a()
	h.Write([]byte(w))
	seed := h.Sum64()
	for i := range v {
		seed = seed*6364136223846793005 + 1442695040888963407
		v[i] += weight * float64(int64(seed>>11)%2000-1000) / 1000
	}
}

func wordWeight(w string) float64 {
	switch fillerWords[w] {
	case filler:
		return 0.1
	case asking:
		return 0.4
	}
	return 1
}

const (
	content = iota
	filler  // articles, pronouns, auxiliaries, politeness
	asking  // question words: they matter, but less than the subject
)

var fillerWords = map[string]int{
	"a": filler, "an": filler, "the": filler, "is": filler, "are": filler, "was": filler, "were": filler,
	"be": filler, "been": filler, "am": filler, "do": filler, "does": filler, "did": filler,
	"of": filler, "to": filler, "in": filler, "on": filler, "at": filler, "for": filler, "from": filler,
	"by": filler, "with": filler, "about": filler, "as": filler, "into": filler, "and": filler, "or": filler,
	"but": filler, "so": filler, "that": filler, "this": filler, "these": filler, "those": filler,
	"it": filler, "its": filler, "i": filler, "me": filler, "my": filler, "we": filler, "us": filler,
	"our": filler, "you": filler, "your": filler, "can": filler, "could": filler, "would": filler,
	"should": filler, "will": filler, "may": filler, "might": filler, "please": filler, "tell": filler,
	"explain": filler, "describe": filler, "know": filler, "want": filler, "like": filler,
	"let": filler, "just": filler, "really": filler, "some": filler, "any": filler, "there": filler,
	"here": filler, "kindly": filler, "quick": filler, "quickly": filler, "briefly": filler, "hey": filler,
	"hi": filler, "hello": filler, "thank": filler, "thanks": filler, "give": filler, "show": filler,
	"what": asking, "which": asking, "who": asking, "when": asking, "where": asking, "why": asking,
	"how": asking,
}
