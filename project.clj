;; Leiningen project for the topology jar that streamparse builds (`sparse run`, `sparse submit`).
;; Maven Central and Debian's local repository only: no Clojars (lein's :base profile wants nrepl, which
;; Debian's libnrepl-clojure / libnrepl-incomplete-clojure install under /usr/share/maven-repo).
;; stack/maven/repo holds one pom Central lacks (flux-core's parent; see the file).
(def storm-version "2.8.3")   ; must equal `storm version` (stack/services/storm.sh STORM_VERSION)
(def kafka-version "4.3.1")   ; the broker's line (stack/maven/kafka-pom.xml)
(def jackson-version "2.20.0") ; jackson-core for loanrisk.storm.FastJsonSerializer: flux-core's own version

(defproject loan-risk "0.1.0-SNAPSHOT"
  :description "Real-time loan-application risk pipeline on Apache Storm (streamparse)"
  :min-lein-version "2.9.0"
  :repositories ^:replace [["central" {:url "https://repo1.maven.org/maven2/" :snapshots false}]
                           ["debian" {:url "file:///usr/share/maven-repo" :snapshots false :checksum :ignore}]
                           ["project" {:url "file:stack/maven/repo" :snapshots false :checksum :ignore}]]
  :plugin-repositories ^:replace [["central" {:url "https://repo1.maven.org/maven2/" :snapshots false}]
                                  ["debian" {:url "file:///usr/share/maven-repo" :snapshots false :checksum :ignore}]]
  ;; storm-core stays a plain entry (no :scope, no :exclusions): streamparse greps `lein deps :tree` for it.
  :dependencies [[org.apache.storm/storm-core ~storm-version]
                 [org.apache.storm/flux-core ~storm-version]
                 [org.apache.storm/storm-kafka-client ~storm-version]
                 [org.apache.kafka/kafka-clients ~kafka-version]
                 [com.fasterxml.jackson.core/jackson-core ~jackson-version]]
  ;; storm-core -> storm-clojure (the Clojure DSL) -> carbonite exists only on Clojars; the Python topology
  ;; never uses it, and a managed exclusion keeps storm-core's own entry plain.
  :managed-dependencies [[org.apache.storm/storm-clojure ~storm-version
                          :exclusions [org.clojars.bipinprasad/carbonite org.clojure/clojure]]]
  ;; The topology jar leaves Storm out: workers and `storm local` have STORM_HOME's jars on their classpath.
  :profiles {:uberjar {:dependencies ^:replace [[org.apache.storm/flux-core ~storm-version]
                                                [org.apache.storm/storm-kafka-client ~storm-version]
                                                [org.apache.kafka/kafka-clients ~kafka-version]
                                                [com.fasterxml.jackson.core/jackson-core ~jackson-version]]}
             ;; storm-client to compile src/java; lein keeps :provided dependencies out of the uberjar
             :provided {:dependencies [[org.apache.storm/storm-client ~storm-version]]}}
  :java-source-paths ["src/java"]
  :javac-options ["--release" "17"]
  :source-paths []
  :resource-paths ["_resources"]
  :target-path "_build"
  :jvm-opts ["-client"]
  ;; Only one defaults.yaml/storm.yaml may be on a worker's classpath, and signatures of repacked jars break it.
  :jar-exclusions [#"log4j\.properties" #"log4j2\.xml" #"(^|/)defaults\.yaml$" #"(^|/)storm\.yaml$"
                   #"(?i)^META-INF/.*\.(SF|DSA|RSA|EC)$"]
  :uberjar-exclusions [#"log4j\.properties" #"log4j2\.xml" #"(^|/)defaults\.yaml$" #"(^|/)storm\.yaml$"
                       #"(?i)^META-INF/.*\.(SF|DSA|RSA|EC)$"])
