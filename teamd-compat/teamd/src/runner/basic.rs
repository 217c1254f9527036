//! `broadcast`, `roundrobin` and `random`: the kernel mode of the same name
//! does all the work; link watches only steer the ports' `user_linkup`,
//! which the kernel reads to skip a port. Like C's, these runners have no
//! hooks, so no decisions and no actions: ports stay as enslaved (enabled).

pub struct Basic {
    name: &'static str,
}

impl Basic {
    pub fn new(name: &str) -> Self {
        let name = match name {
            "broadcast" => "broadcast",
            "random" => "random",
            _ => "roundrobin",
        };
        Self { name }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}
