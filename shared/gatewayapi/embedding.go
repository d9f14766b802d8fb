package gatewayapi

import "github.com/sluicegw/sluice/shared/route"

// addEmbeddingBackend puts the AIBackend that a semantic CachePolicy embeds
// questions with into the table's backends, so the gateway can reach it
// even when no route sends traffic to it. The policy names it within its
// own namespace; in the table it is namespace/name, as every AIBackend is.
func (c *compiler) addEmbeddingBackend(a *analysis, rc *route.Cache) {
	if rc == nil || !rc.Semantic || rc.EmbeddingBackend == "" {
		return
	}
	p := a.idx[cacheKindName+"/"+rc.Policy]
	if p == nil {
		return
	}
	ref := rc.EmbeddingBackend
	if p.Namespace != "" {
		ref = p.Namespace + "/" + ref
	}
	if o := a.idx["AIBackend/"+ref]; o != nil {
		b := aiBackend(o)
		c.backend(&b)
	}
}
